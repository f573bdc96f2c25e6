"""Where rows come from and how they are read: globs, folders, gzip, headers, dialects."""

from __future__ import annotations

import gzip


def test_glob_folder_and_gzip_each_form_one_stream_in_path_order(tap_csv) -> None:
    tap_csv.file("parts/b.csv", "id,name\n3,c\n")
    tap_csv.file("parts/a.csv.gz", gzip.compress(b"name,id\na,1\nb,2\n"))  # columns reordered
    tap_csv.file("parts/notes.txt", "not,matched\n")
    tap_csv.file("folder/2.csv", "id,name\n20,y\n")
    tap_csv.file("folder/1.csv", "id,name\n10,x\n")
    tap_csv.file("folder/.hidden.csv", "id,name\n99,hidden\n")
    tap_csv.file("zipped.data", gzip.compress(b"id,name\n7,g\n"))
    files = [
        {"entity": "globbed", "path": f"{tap_csv.tmp_path}/parts/*.csv*"},
        {"entity": "folder", "path": f"{tap_csv.tmp_path}/folder"},
        {"entity": "zipped", "path": f"{tap_csv.tmp_path}/zipped.data", "compression": "gzip"},
    ]
    run = tap_csv.sync({"files": files})
    assert run.records("globbed") == [
        {"name": "a", "id": 1},
        {"name": "b", "id": 2},
        {"id": 3, "name": "c"},
    ]
    assert run.records("folder") == [{"id": 10, "name": "x"}, {"id": 20, "name": "y"}]
    assert run.records("zipped") == [{"id": 7, "name": "g"}]


def test_headerless_file_with_its_own_dialect_and_encoding(tap_csv) -> None:
    path = tap_csv.file("latin.csv", "1;'Zoë; the first';2024-02-01\n2;Åsa;\n", encoding="latin-1")
    entry = {
        "entity": "people",
        "path": path,
        "header": False,
        "columns": ["id", "name", "joined"],
        "delimiter": ";",
        "quotechar": "'",
        "encoding": "latin-1",
    }
    renamed = {
        "entity": "renamed",
        "path": tap_csv.file("renamed.csv", 'a,b\n"x,1",2\n'),
        "columns": ["first", "second"],
    }
    unquoted = {
        "entity": "unquoted",
        "path": tap_csv.file("unquoted.tsv", 'k\tv\n"x\t"y z"\n'),
        "delimiter": "\t",
        "quotechar": "",
    }
    run = tap_csv.sync({"files": [entry, renamed, unquoted]})
    assert run.records("people") == [
        {"id": 1, "name": "Zoë; the first", "joined": "2024-02-01"},
        {"id": 2, "name": "Åsa", "joined": None},
    ]
    assert run.records("renamed") == [{"first": "x,1", "second": 2}]
    assert run.records("unquoted") == [{"k": '"x', "v": '"y z"'}]


def test_byte_order_mark_is_skipped_and_an_empty_file_has_no_rows(tap_csv) -> None:
    tap_csv.file("many/1.csv", b"\xef\xbb\xbfid,name\n1,a\n")
    tap_csv.file("many/2.csv", "")
    run = tap_csv.sync({"files": [{"entity": "many", "path": f"{tap_csv.tmp_path}/many/*.csv"}]})
    assert run.records() == [{"id": 1, "name": "a"}]
