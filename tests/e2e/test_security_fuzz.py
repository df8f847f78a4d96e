"""The browser page's JSON API fuzzed over HTTP against a real `chainlit run app.py`.

Hypothesis sends wrong types, huge and tiny sizes, any Unicode (lone surrogates included),
unknown fields, non-JSON bytes, odd content types and paths. Every answer must be a 2xx, or a
4xx whose JSON says why; never a 5xx; and the app must keep answering a normal question after.
The model is the scripted server, so a valid question costs milliseconds.
"""

from __future__ import annotations

import json
import string
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from e2e_server import _stop
from security_sites import SECRET, SECRET_QUESTION, ScriptedServerProcess, start_guarded_app

pytestmark = pytest.mark.e2e
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=6)
any_text = st.text(max_size=40) | st.text(st.characters(categories=["Cs", "Co", "Cn", "Mn", "So"]), max_size=20)
boundary_sizes = st.sampled_from([1, 1_999, 2_000, 2_001, 59_999, 60_000, 60_001, 70_000]) | st.integers(1, 300)
sized_text = boundary_sizes.map(lambda n: "é" * n) | st.just("") | st.just("   \n\t ")
field_values = {
    "question": any_text | sized_text | json_values,
    "mode": st.sampled_from(["slm", "llm", "hybrid", "compare", "SLM", "", "gpt-4"]) | json_values,
    "context": any_text | sized_text | json_values,
    "use_knowledge_base": st.booleans() | json_values,
    "max_tokens": st.integers(-5, 5_000) | json_values,
}
unknown_fields = st.dictionaries(st.sampled_from(["model", "url", "base_url", "api_key", "__proto__", "x"]), json_values, max_size=2)
request_objects = st.fixed_dictionaries({}, optional=field_values).flatmap(
    lambda known: unknown_fields.map(lambda extra: known | extra))


def encode(value) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()  # lone surrogates become \\ud800 escapes


nearly_valid = st.fixed_dictionaries(  # gets past validation often, so the pipeline sees odd text too
    {"question": st.text(min_size=1, max_size=60) | any_text | sized_text,
     "use_knowledge_base": st.booleans(), "context": st.text(min_size=1, max_size=200) | any_text | sized_text},
    optional={"mode": st.sampled_from(["slm", "llm", "hybrid"]), "max_tokens": st.integers(1, 1024)})
bodies = (nearly_valid.map(encode) | request_objects.map(encode) | json_values.map(encode) | st.binary(max_size=300)
          | st.integers(0, 400_000).map(lambda n: b'{"question": "' + b"q" * n + b'"}'))
content_types = st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", None])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    with ScriptedServerProcess("--model", "scripted-slm", "--model", "scripted-llm", "--tokens", "4") as model:
        url, process, _ = start_guarded_app(tmp, model, sign_in=False, RAGSTAGE_MAX_GENERATIONS_PER_CLIENT="50",
                                            RAGSTAGE_MAX_GENERATIONS_TOTAL="50")
        with httpx.Client(base_url=url, timeout=120) as client:
            yield client
        _stop(process)


def assert_answered_with_a_reason(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:300]
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/json"), response.text[:300]
        assert response.json()["error"].strip()


QUESTION_PATHS = st.sampled_from(["/api/webgpu-demo/prompt", "/api/webgpu-demo/stream"])


def post_and_check(app: httpx.Client, path: str, body: bytes, content_type: str | None) -> None:
    response = app.post(path, content=body, headers={"Content-Type": content_type} if content_type else {})
    event(f"{path.rsplit('/', 1)[1]} {response.status_code}")
    assert_answered_with_a_reason(response)
    if path.endswith("/stream") and response.status_code == 200:
        assert "event: done" in response.text or "event: error" in response.text


@FUZZ
@given(path=QUESTION_PATHS, body=bodies, content_type=content_types)
def test_any_body_gets_an_answer_or_a_reason_never_a_server_error(app, path, body, content_type):
    post_and_check(app, path, body, content_type)


@FUZZ
@given(path=QUESTION_PATHS, question=nearly_valid)
def test_odd_but_well_formed_questions_go_through_the_pipeline_without_a_server_error(app, path, question):
    post_and_check(app, path, encode(question), "application/json")


@FUZZ
@given(method=st.sampled_from(["GET", "HEAD", "PUT", "DELETE", "PATCH"]),
       path=st.sampled_from(["/api/webgpu-demo/config", "/api/webgpu-demo/prompt", "/api/webgpu-demo/stream"]),
       query=st.text(string.printable, max_size=30))
def test_other_methods_and_queries_are_refused_readably(app, method, path, query):
    response = app.request(method, path, params={"q": query})
    assert response.status_code < 500


@FUZZ
@given(segment=st.text(max_size=40).filter(lambda s: s not in ("", ".", "..")))
def test_unknown_engine_and_model_files_are_not_found(app, segment):
    for prefix in ("/webgpu-demo/engine/", "/webgpu-demo/models/v/"):
        response = app.get(prefix + quote(segment, safe=""))
        assert response.status_code in (200, 404, 405), (prefix, segment, response.status_code)


def test_after_the_fuzzing_the_app_still_answers(app):
    assert app.get("/health").status_code == 200
    question = {"question": SECRET_QUESTION, "use_knowledge_base": True}
    assert SECRET in app.post("/api/webgpu-demo/prompt", json=question).text
    stream = app.post("/api/webgpu-demo/stream", json=question)
    assert stream.status_code == 200 and "event: done" in stream.text
