from solution import Version, latest


def test_minor_versions_compare_numerically():
    assert Version.parse("1.10.0") > Version.parse("1.9.0")


def test_release_candidate_precedes_release():
    assert Version.parse("1.0.0-rc.1") < Version.parse("1.0.0")
    assert latest(["1.0.0-rc.1", "1.0.0"], include_prereleases=True) == "1.0.0"


def test_round_trip():
    version = Version.parse("v2.3.4-beta.1+build.7")
    assert str(version) == "2.3.4-beta.1+build.7"
    assert version.is_prerelease
