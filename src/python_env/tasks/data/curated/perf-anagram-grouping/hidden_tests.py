from solution import group_anagrams, largest_group


def test_group_order_and_member_order():
    words = ["stop", "tea", "pots", "eat", "tops", "ate", "spot", "opts", "tae"]
    return group_anagrams(words)


def test_duplicates_listed_once():
    words = ["evil", "live", "evil", "vile", "live", "solo"]
    return [group_anagrams(words), group_anagrams(["echo", "echo"]), group_anagrams(["echo", "echo"], 1)]


def test_min_size_one_keeps_singletons():
    return group_anagrams(["b", "a", "ab", "ba", "c"], min_size=1)


def test_min_size_three():
    words = ["rat", "tar", "art", "on", "no", "night", "thing"]
    return group_anagrams(words, min_size=3)


def test_punctuation_only_and_digits():
    words = ["!!", "", "...", "a1", "1a", "A-1", "12", "21"]
    return group_anagrams(words)


def test_case_variants_are_distinct_members():
    return group_anagrams(["Tab", "bat", "BAT", "tab", "bat"])


def test_largest_group_ties_and_empty():
    return [
        largest_group(["ab", "ba", "cd", "dc"]),
        largest_group(["x", "y"]),
        largest_group([]),
    ]
