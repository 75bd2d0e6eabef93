from solution import DocumentStore


def make_store():
    store = DocumentStore()
    store.add("a", "Reset the router and wait")
    store.add("b", "Router lights: what they mean")
    store.add("c", "Wait times for support tickets")
    store.add("d", "Reset password; reset PIN")
    return store


def test_order_follows_insertion():
    store = make_store()
    return [store.search("router"), store.search("reset"), store.search("wait"), store.search("mean wait")]


def test_replace_keeps_position_and_drops_old_words():
    store = make_store()
    store.add("a", "Mean time between failures")
    return [store.search("router"), store.search("mean"), store.search("reset"), len(store)]


def test_remove_and_readd_moves_to_end():
    store = make_store()
    store.remove("a")
    after_remove = store.search("reset")
    store.add("a", "Reset everything")
    return [after_remove, store.search("reset"), len(store)]


def test_remove_unknown_raises():
    store = make_store()
    try:
        store.remove("zzz")
    except KeyError:
        return ["KeyError", store.search("reset"), len(store)]
    return ["no error"]


def test_unknown_and_partial_words():
    store = make_store()
    return [store.search("rout"), store.search("router modem"), store.search("RESET reset"), store.search("")]


def test_digits_and_empty_store():
    store = DocumentStore()
    empty = store.search("anything")
    store.add("e1", "Error 404 on page 2")
    store.add("e2", "error 4041")
    store.add("e3", "")
    return [empty, store.search("404"), store.search("error"), store.search("2 error"), len(store)]


def test_remove_everything():
    store = make_store()
    for doc_id in ["d", "b", "a", "c"]:
        store.remove(doc_id)
    store.add("z", "router")
    return [store.search("reset"), store.search("router"), len(store)]
