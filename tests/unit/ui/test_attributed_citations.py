"""Citations as the chat shows them after sentence attribution: chips even when the model wrote
no [n], model-written and computed ones apart, wrong marks struck, unsupported sentences flagged,
and the side panel highlighting the supporting sentences of the passage, escaped."""

from __future__ import annotations

import re

from ui_fakes import chunk, result, stage_metrics

from ragstage.answer.attribution import attribute
from ragstage.answer.citations import attributed_citations
from ragstage.knowledge import Hit
from ragstage.ui.citations import (
    annotated_answer,
    highlighted_passage,
    passage_markdown,
    sources_footer,
    sources_to_show,
)
from ragstage.ui.locale import english, load_locale

LABEL_COMPUTED = english().text("answer.sources_computed")
LABEL_MODEL_CITED = english().text("answer.sources_model")
UNSUPPORTED_MARK = english().text("answer.unsupported_mark")

PUMP = "The pump has two valves. Press the red button to start the pump. It hums when it runs."
LAMP = "The lamp burns oil. The keeper trims the wick every night."
HITS = (Hit(1, 9.0, chunk("pump.md", PUMP)), Hit(2, 7.0, chunk("lamp.md", LAMP, ordinal=1)))


def _attributed(text: str):
    attribution = attribute(text, [hit.chunk.text for hit in HITS])
    answer = result("How do I start the pump?", text, HITS, (stage_metrics("answer", "slm", ttft_ms=1, total_ms=2),))
    return answer.__class__(**{**answer.__dict__, "attribution": attribution,
                               "citations": attributed_citations(attribution, HITS)})


def test_an_answer_without_marks_gets_chips_of_the_supporting_passage():
    answer = _attributed("Press the red button to start the pump.")
    refs, cited = sources_to_show(answer)
    assert cited and [(ref.n, ref.origin) for ref in refs] == [(1, "computed")]
    footer = sources_footer(refs, cited)
    assert f"**{LABEL_COMPUTED}:** [1] pump.md" in footer and LABEL_MODEL_CITED not in footer
    text, legend = annotated_answer(answer.text, answer.attribution)
    assert text == "Press the red button to start the pump. *[1]*" and legend == ("*italic [n]*: found by ragstage",)


def test_model_written_and_computed_citations_are_labelled_apart():
    answer = _attributed("Press the red button to start the pump [1]. The keeper trims the wick every night.")
    refs, _ = sources_to_show(answer)
    assert [(ref.n, ref.origin) for ref in refs] == [(1, "model"), (2, "computed")]
    footer = sources_footer(refs, True)
    assert f"**{LABEL_MODEL_CITED}:** [1] pump.md" in footer and f"**{LABEL_COMPUTED}:** [2] lamp.md" in footer
    assert "wick every night. *[2]*" in annotated_answer(answer.text, answer.attribution)[0]


def test_a_wrong_mark_is_struck_and_the_right_passage_added():
    answer = _attributed("The keeper trims the wick every night [1].")
    text, legend = annotated_answer(answer.text, answer.attribution)
    assert text == "The keeper trims the wick every night ~~[1]~~. *[2]*"
    assert any("~~[n]~~" in line for line in legend)
    assert [(c.n, c.origin) for c in answer.citations] == [(2, "computed")]


def test_a_sentence_no_passage_supports_is_flagged():
    answer = _attributed("Press the red button to start the pump. Bananas grow on tall trees in Peru.")
    text, legend = annotated_answer(answer.text, answer.attribution)
    assert text.endswith(f"Bananas grow on tall trees in Peru. {UNSUPPORTED_MARK}")
    assert text.count(UNSUPPORTED_MARK) == 1 and any("unsupported" in line for line in legend)


def test_the_panel_highlights_the_supporting_sentence_and_says_what_it_supports():
    answer = _attributed("Press the red button to start the pump.")
    (ref,) = sources_to_show(answer)[0]
    shown = passage_markdown(ref)
    facts, passage = shown.split("\n\n---\n\n")
    assert "**Cited by:** ragstage" in facts and "**Supports:** “Press the red button to start the pump.”" in facts
    assert passage == "The pump has two valves. **Press the red button to start the pump.** It hums when it runs."
    assert re.findall(r"\*\*(.+?)\*\*", passage) == ["Press the red button to start the pump."]


def test_highlighted_passages_stay_escaped():
    text = 'Intro <b>x</b>. Run <script>alert(1)</script> **now** [click](http://evil) ![i](http://evil/i.png). End.'
    start = text.index("Run")
    end = text.index(" End.")
    span = attribute("Run script alert now click evil.", [text]).sentences[0].citations[0].sentences[0]
    assert (span.start, span.end) == (start, end)
    shown = highlighted_passage(text, (span,))
    assert "<" not in shown and "&lt;script&gt;" in shown and "&lt;b&gt;" in shown
    assert "](http" not in shown.replace("\\]", "") and "![" not in shown  # links and images stay text
    assert shown.count("**") == 2 and "\\*\\*now\\*\\*" in shown  # only our bold is Markdown
    assert shown.startswith("Intro &lt;b&gt;x&lt;/b&gt;. **Run &lt;script&gt;") and shown.endswith("** End.")


def test_highlights_never_cross_a_line_and_get_spaces_where_markdown_needs_them():
    text = "第一句。第二句很长。\nLine two."
    spans = attribute("第二句很长。", [text]).sentences[0].citations[0].sentences
    shown = highlighted_passage(text, spans)
    assert "**第二句很长。**" in shown and "。 **" in shown  # "。**" before a letter would not be bold
    assert "\n" in shown and shown.count("**") == 2


def test_attributed_citations_are_labelled_in_the_readers_language():
    refs, cited = sources_to_show(_attributed("Press the red button to start the pump."))
    locale = load_locale("uk")
    footer = sources_footer(refs, cited, locale)
    assert f"**{locale.text('answer.sources_computed')}:**" in footer and LABEL_COMPUTED not in footer
