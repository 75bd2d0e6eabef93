from solution import import_members

HEADER = "email,name,joined,plan\n"


def test_imports_valid_rows():
    result = import_members(HEADER + "ann@example.com,Ann Lee,2024-01-05,plus\n")
    assert [m["email"] for m in result.members] == ["ann@example.com"]
    assert result.errors == []


def test_error_reports_file_line():
    text = HEADER + "bo@example.com,Bo,2024-02-01,basic\n,No Mail,2024-02-02,basic\n"
    result = import_members(text)
    assert result.errors == ["line 3: missing email"], result.errors


def test_each_import_has_its_own_errors():
    first = import_members(HEADER + "x@example.com,X,2024-03-01,gold\n")
    second = import_members(HEADER + "y@example.com,Y,2024-03-02,basic\n")
    assert len(first.errors) == 1
    assert second.errors == [], second.errors
