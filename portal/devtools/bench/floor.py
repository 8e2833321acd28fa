"""The page floor: what Starlette, Jinja and uvicorn serve with no portal code, measured beside the portal's pages.

``/ok`` answers a plain "ok"; ``/table`` renders a 50-row table through Jinja (about the work of a small portal
page). Served by the same uvicorn, with the same workers, in the same run as the portal's pages, so the portal's
figures are read as a share of what the stack itself can do on this machine at that moment.

    uvicorn portal.devtools.bench.floor:app --workers 2
"""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse
from starlette.routing import Route

_TABLE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<main><h1>{{ title }}</h1><table><caption>{{ title }}</caption>
<thead><tr><th scope="col">月份</th><th scope="col">缴费基数</th><th scope="col">状态</th></tr></thead><tbody>
{% for row in rows %}<tr><td>{{ row.month }}</td><td>{{ row.base }}</td><td>{{ row.state }}</td></tr>
{% endfor %}</tbody></table></main></body></html>"""
_environment = Environment(loader=DictLoader({"table.html": _TABLE}), autoescape=select_autoescape())
ROWS = [{"month": f"2026年{n % 12 + 1}月", "base": f"{5000 + n * 10}.00", "state": "已缴费"} for n in range(50)]


async def ok(_request):
    return PlainTextResponse("ok")


async def table(_request):
    return HTMLResponse(_environment.get_template("table.html").render(title="缴费记录", rows=ROWS))


app = Starlette(routes=[Route("/ok", ok), Route("/table", table)])
