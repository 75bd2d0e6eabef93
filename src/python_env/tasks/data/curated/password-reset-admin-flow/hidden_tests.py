from solution import PasswordResetFlow, ResetError

ACCOUNTS = {
    "ana@example.com": {"admin": False, "active": True},
    "bo@example.com": {"admin": False, "active": False},
    "support@example.com": {"admin": True, "active": True},
    "former@example.com": {"admin": True, "active": False},
}


class Clock:
    def __init__(self):
        self.now = 1_700_000_000.0

    def __call__(self):
        return self.now


def _flow():
    clock, stored = Clock(), {}
    return PasswordResetFlow(ACCOUNTS, stored.__setitem__, clock=clock), clock, stored


def _complete(flow, token, password="a sufficiently long one"):
    try:
        return flow.complete(token, password)
    except ResetError:
        return "ResetError"


def test_link_valid_for_thirty_minutes():
    flow, clock, stored = _flow()
    early, late = flow.start("ana@example.com"), flow.start("ana@example.com")
    clock.now += 29 * 60
    first = _complete(flow, early)
    clock.now += 2 * 60
    return [first, _complete(flow, late), sorted(stored)]


def test_pending_links_counted_until_expiry():
    flow, clock, _ = _flow()
    flow.start("ana@example.com")
    flow.start("ana@example.com")
    clock.now += 20 * 60
    during = flow.pending_for("ana@example.com")
    clock.now += 11 * 60
    return [during, flow.pending_for("ana@example.com")]


def test_non_admin_cannot_start_for_others():
    flow, _, _ = _flow()
    try:
        return flow.start_for("ana@example.com", "bo@example.com")
    except ResetError:
        return "ResetError"


def test_unknown_or_inactive_admin_refused():
    flow, _, _ = _flow()
    outcomes = []
    for actor in ("ghost@example.com", "former@example.com"):
        try:
            outcomes.append(flow.start_for(actor, "ana@example.com"))
        except ResetError:
            outcomes.append("ResetError")
    return outcomes


def test_admin_can_start_reset():
    flow, clock, stored = _flow()
    token = flow.start_for("support@example.com", "ana@example.com")
    clock.now += 5 * 60
    return [_complete(flow, token), stored]


def test_weak_password_keeps_link_usable():
    flow, _, stored = _flow()
    token = flow.start("ana@example.com")
    return [_complete(flow, token, "short"), _complete(flow, token), stored]


def test_inactive_and_unknown_accounts():
    flow, _, _ = _flow()
    return [flow.start("bo@example.com"), flow.start("x@example.com"), _complete(flow, "forged")]
