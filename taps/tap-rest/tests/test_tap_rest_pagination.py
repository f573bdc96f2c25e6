"""Every pagination style and records_path form, in one run against the scripted API."""

from __future__ import annotations

USERS = [{"id": n, "name": f"user{n}"} for n in range(1, 8)]


def test_every_pagination_style_reads_every_record(api, run_tap) -> None:
    def by_page(seen):  # stops at the first empty page, here {"data": null}
        page, size = int(seen.query["page"]), int(seen.query["per_page"])
        return {"data": USERS[(page - 1) * size : page * size] or None}

    def by_total(seen):  # announces 3 pages: no 4th request
        page = int(seen.query["page"])
        return {"results": USERS[page * 3 : page * 3 + 3], "meta": {"pages": 3}}

    def by_offset(seen):  # caps pages at 2 records whatever the limit asked; ends with a 204
        skip = int(seen.query["skip"])
        return USERS[skip : skip + 2] or (204, b"")

    def by_cursor(seen):
        start = int(seen.query.get("after", "0"))
        following = str(start + 3) if start + 3 < len(USERS) else None
        return {"payload": {"items": USERS[start : start + 3]}, "next": following}

    def by_link(seen):
        page = int(seen.query.get("p", "1"))
        more = page * 3 < len(USERS)
        link = {"Link": f'<{api.url}/link?p={page + 1}&extra=1>; rel="next"'} if more else {}
        return 200, USERS[(page - 1) * 3 : page * 3], link

    for path, handler in {
        "/pages": by_page,
        "/total": by_total,
        "/offset": by_offset,
        "/cursor": by_cursor,
        "/link": by_link,
    }.items():
        api.route(path, handler)
    streams = [
        {
            "name": "by_page",
            "path": "/pages",
            "records_path": "data",
            "pagination": {"type": "page", "page_size": 3, "page_size_param": "per_page"},
        },
        {
            "name": "by_total",
            "path": "/total",
            "records_path": "$.results[*]",
            "pagination": {"type": "page", "start_page": 0, "total_pages_path": "$.meta.pages"},
        },
        {
            "name": "by_offset",
            "path": "/offset",
            "params": {"sort": "id"},
            "pagination": {
                "type": "offset",
                "offset_param": "skip",
                "page_size": 3,
                "page_size_param": "limit",
            },
        },
        {
            "name": "by_cursor",
            "path": "cursor",
            "records_path": "payload.items",
            "pagination": {"type": "cursor", "cursor_path": "$.next", "cursor_param": "after"},
        },
        {"name": "by_link", "path": "/link", "pagination": {"type": "link_header"}},
    ]
    schema = {"properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}
    for stream in streams:
        stream["schema"] = schema

    run = run_tap(api.config(*streams))

    assert run.returncode == 0, run.stderr
    for stream in streams:
        assert run.records(stream["name"]) == USERS, stream["name"]
    pages = api.requests_to("/pages")
    assert [(s.query["page"], s.query["per_page"]) for s in pages] == [
        ("1", "3"),
        ("2", "3"),
        ("3", "3"),
        ("4", "3"),
    ]
    assert [s.query["page"] for s in api.requests_to("/total")] == ["0", "1", "2"]
    offsets = api.requests_to("/offset")
    assert [s.query for s in offsets] == [
        {"sort": "id", "limit": "3", "skip": str(skip)} for skip in (0, 2, 4, 6, 7)
    ]
    assert [s.query.get("after") for s in api.requests_to("/cursor")] == [None, "3", "6"]
    assert [s.query for s in api.requests_to("/link")] == [
        {},
        {"p": "2", "extra": "1"},
        {"p": "3", "extra": "1"},
    ]


def test_body_that_is_not_a_list_without_records_path_fails_clearly(api, run_tap) -> None:
    api.route("/wrapped", lambda seen: {"data": USERS, "meta": {}})
    run = run_tap(api.config({"name": "wrapped", "path": "/wrapped"}))
    assert run.returncode == 2
    assert "set records_path" in run.stderr
    assert "['data', 'meta']" in run.stderr
