"""``dativo ui``: a read-only web page of jobs, runs and states, served from the state store
(optional extra ``ui``: Starlette, Jinja2, uvicorn)."""
