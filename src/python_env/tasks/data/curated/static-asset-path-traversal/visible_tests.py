from solution import content_type, resolve_asset

ROOT = "/srv/shop/assets"


def test_serves_stylesheet():
    path = resolve_asset(ROOT, "/static/css/site.css")
    assert path == "/srv/shop/assets/css/site.css"
    assert content_type(path) == "text/css"


def test_refuses_parent_directory():
    try:
        path = resolve_asset(ROOT, "/static/../../../etc/app/secrets.js")
    except PermissionError:
        return
    raise AssertionError(f"served a file outside the asset root: {path}")
