import random

from solution import affected_by, install_order


def benchmark():
    rng = random.Random(1234)
    count = 140
    names = [f"pkg-{count - i:03d}" for i in range(count)]
    requirements = {}
    for i, name in enumerate(names):
        later = names[i + 1 :]
        deps = [later[int(rng.random() * len(later))] for _ in range(3)] if later else []
        requirements[name] = deps
    order = install_order(requirements)
    impact = [len(affected_by(requirements, names[-k])) for k in (1, 5, 20)]
    return [order[:5], order[-5:], len(order), impact]
