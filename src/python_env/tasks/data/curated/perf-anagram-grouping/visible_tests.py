from solution import group_anagrams, largest_group


def test_basic_groups():
    words = ["listen", "google", "silent", "enlist", "banana"]
    assert group_anagrams(words) == [["listen", "silent", "enlist"]]


def test_case_and_spaces_ignored():
    assert group_anagrams(["Dormitory", "dirty room!", "cat"]) == [["Dormitory", "dirty room!"]]


def test_largest_group():
    assert largest_group(["ab", "ba", "abc", "cab", "bca"]) == ["abc", "cab", "bca"]
