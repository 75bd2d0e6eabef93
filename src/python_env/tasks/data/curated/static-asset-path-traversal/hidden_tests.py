from solution import content_type, resolve_asset

ROOT = "/srv/shop/assets"


def _outcome(url, root=ROOT):
    try:
        return resolve_asset(root, url)
    except (LookupError, PermissionError) as exc:
        return type(exc).__name__


def test_plain_assets():
    return [_outcome(u) for u in ("/static/app.js", "/static/img/logo.svg", "/static/fonts/x.woff2")]


def test_non_static_and_bad_types():
    return [_outcome(u) for u in ("/media/app.js", "/static/config.py", "/static/.env", "/static/img/")]


def test_dotdot_escape():
    return [_outcome(u) for u in ("/static/../app/settings.js", "/static/img/../../../../root/.ssh/k.png")]


def test_absolute_path_escape():
    return _outcome("/static//etc/nginx/site.css")


def test_sibling_directory_with_common_prefix():
    return _outcome("/static/../assets-private/keys.js")


def test_root_with_trailing_slash():
    return _outcome("/static/css/print.css", root="/srv/shop/assets/")


def test_content_types():
    return [content_type(p) for p in ("a/B.PNG", "x.svg", "y.js")]
