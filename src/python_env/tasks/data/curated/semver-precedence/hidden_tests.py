from solution import Version, is_compatible_upgrade, latest


def test_semver_spec_ordering():
    shuffled = [
        "1.0.0-beta.11",
        "1.0.0",
        "1.0.0-alpha.1",
        "1.0.0-rc.1",
        "1.0.0-alpha",
        "1.0.0-beta.2",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
    ]
    return [str(v) for v in sorted(Version.parse(s) for s in shuffled)]


def test_numeric_core_comparison():
    pairs = [("1.10.0", "1.9.0"), ("10.0.0", "9.9.9"), ("0.0.10", "0.0.2"), ("2.0.0", "10.0.0")]
    return [Version.parse(a) > Version.parse(b) for a, b in pairs]


def test_parsed_fields():
    version = Version.parse(" v12.0.3-alpha.7+exp.sha.5114f85 ")
    return [version.major, version.minor, version.patch, list(version.prerelease), version.build]


def test_single_digit_ordering():
    pairs = [("1.2.3", "1.2.4"), ("1.2.3", "1.3.0"), ("2.0.0", "1.9.9"), ("1.2.3", "1.2.3")]
    return [[Version.parse(a) < Version.parse(b), Version.parse(a) == Version.parse(b)] for a, b in pairs]


def test_build_metadata_ignored():
    a, b = Version.parse("1.2.3+linux"), Version.parse("1.2.3+darwin.2")
    return [a == b, a < b, hash(a) == hash(b), str(a), str(b)]


def test_latest_picks_numeric_maximum():
    return latest(["1.2.0", "1.10.0", "1.9.5", "1.10.0-rc.2"])


def test_latest_filters_prereleases():
    return [
        latest(["1.4.2", "2.0.0-rc.1", "1.3.9"]),
        latest(["2.0.0-rc.1", "1.4.2"], include_prereleases=True),
        latest(["3.0.0-alpha"]),
        latest([]),
    ]


def test_compatible_upgrades():
    pairs = [("1.2.3", "1.10.0"), ("1.2.3", "2.0.0"), ("2.0.0-rc.1", "2.0.0"), ("1.4.0", "1.3.9")]
    return [is_compatible_upgrade(a, b) for a, b in pairs]


def test_numeric_prerelease_identifiers():
    pairs = [("1.0.0-alpha.2", "1.0.0-alpha.10"), ("1.0.0-9", "1.0.0-10"), ("1.0.0-2", "1.0.0-alpha")]
    return [Version.parse(a) < Version.parse(b) for a, b in pairs]


def test_invalid_versions():
    results = []
    for text in ["1.2", "01.2.3", "1.2.3-", "a.b.c", "1.2.3+"]:
        try:
            Version.parse(text)
            results.append("parsed")
        except ValueError:
            results.append("ValueError")
    return results
