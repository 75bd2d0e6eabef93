from solution import find_duplicates, wasted_bytes


def benchmark():
    files = []
    for n in range(100):
        key = (n * 7) % 45
        content = f"block-{key:02d}-".encode() * (1 + key % 4)
        if n % 17 == 0:
            content = b""
        files.append((f"dir{n % 5}/file-{n:04d}.dat", content))
    groups = find_duplicates(files)
    return [len(groups), groups[:3], sum(len(g) for g in groups), wasted_bytes(files)]
