import random

from solution import count_activity, top_active_users


def benchmark():
    rng = random.Random(1234)
    actions = ["login", "post", "view", "comment", "logout", "upload", "view"]
    events = [
        {"user": f"user-{int(rng.random() * rng.random() * 120)}", "action": actions[n % 7]}
        for n in range(700)
    ]
    top = top_active_users(events, 10)
    counts = count_activity(events[:100])
    return [top, len(counts), sum(count for _, count in counts)]
