from solution import group_anagrams, largest_group


def benchmark():
    bases = [f"{chr(97 + i % 26)}{chr(97 + (i * 7) % 26)}x{i % 10}q" for i in range(70)]
    phrases = [
        bases[(n * 37) % 70][k:] + bases[(n * 37) % 70][:k]
        for n in range(150)
        for k in (n // 70,)
    ]
    groups = group_anagrams(phrases)
    return [len(groups), sum(len(g) for g in groups), groups[0], largest_group(phrases[:60])]
