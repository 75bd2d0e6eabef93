from solution import find_duplicates, wasted_bytes


def benchmark():
    files = []
    for n in range(110):
        content = (f"block-{(n * 7) % 80}-".encode()) * (1 + (n * 13) % 9)
        if n % 17 == 0:
            content = b""
        files.append((f"dir{n % 5}/file-{n:04d}.dat", content))
    groups = find_duplicates(files)
    return [len(groups), groups[:3], wasted_bytes(files)]
