"""A Chinese and a Ukrainian knowledge file, each asked about in its language, answered by the
real embedded server (Qwen2.5-Coder-0.5B, the fastest bundled model that answers such questions
right; SmolLM2-135M does not): the answer states the fact, in the question's language (the
system prompt asks for it: ragstage.answer.language), and cites the right file: with its own
[n], or, when the tiny model writes none (it often does not, in any language), with the
citation sentence attribution computes from the passages it was shown (as the 1.5B test does).

The files are ragstage's own (a made-up town library and a made-up village museum), written for
this test; English and other-language files sit beside them so retrieval has to choose.
"""

from __future__ import annotations


import pytest

from ragstage.answer import AnswerOptions, answer
from ragstage.answer.attribution import attribute
from ragstage.answer.language import question_language
from ragstage.evaluation.matching import strip_citations
from ragstage.knowledge import ChunkIndex
from ragstage.knowledge.languages import script_of

pytestmark = pytest.mark.integration

FILES = {
    "qingshi-library.md": (
        "# 青石镇图书馆\n\n青石镇图书馆建于1958年，位于镇中心的老粮仓里。馆内藏书约三万册，"
        "其中有一间专门收藏本地族谱的阅览室。图书馆每周一闭馆，其余日子早上九点开门。"
        "每年秋天，图书馆会在院子里举办一次旧书交换集市。\n"
    ),
    "sosnivka-museum.md": (
        "# Музей у Соснівці\n\nСільський музей у Соснівці відкрили 1994 року в колишній школі. "
        "У його збірці понад 2700 предметів: вишиті рушники, гончарний посуд і старі фотографії. "
        "Музей працює з середи до неділі, а екскурсію для групи треба замовити за два дні. "
        "Найстаріший експонат музею — дубовий човен, знайдений у річці.\n"
    ),
    "harbor-notes.md": (
        "# Harbor notes\n\nThe harbor ferry leaves every forty minutes in summer. The fish market opens at dawn "
        "and closes at noon; the lighthouse museum is open on weekends only.\n"
    ),
    "bakery.md": (
        "# Пекарня\n\nПекарня на розі відчиняється о шостій ранку і пече житній хліб, булочки з корицею та "
        "хліб на заквасці. У понеділок пекарня зачинена.\n"
    ),
    "garden.md": "# 社区花园\n\n社区花园有一个小池塘、一排老橡树和十二块供居民认领的菜地。\n",
}
CASES = [  # question, its language, the file that answers it, the fact the answer must state
    ("青石镇图书馆是哪一年建成的？", "zh", "qingshi-library.md", "1958"),
    ("Скільки предметів у збірці музею в Соснівці?", "uk", "sosnivka-museum.md", "2700"),
]


@pytest.fixture(scope="module")
def library_index(index_of_files) -> ChunkIndex:
    return index_of_files(FILES, "multilingual")


def _options() -> AnswerOptions:
    return AnswerOptions(mode="llm", top_k=3, context_budget_tokens=600, max_answer_tokens=80, temperature=0.0,
                         answer_anyway=False, escalation_policy="never", escalation_min_draft_words=12,
                         score_floor=0.5)


def cited_files(result) -> set[str]:
    """The files the answer cites: its own valid [n], else those sentence attribution finds."""
    shown = result.prompt_sources
    own = {c.chunk.source for c in result.citations}
    computed = {shown[n - 1].chunk.source for n in attribute(result.text, [h.chunk.text for h in shown]).cited()}
    return own or computed


def written_in(text: str, language: str) -> bool:
    """No Latin-script words (English), and the detector agrees once there is enough to go by."""
    body = strip_citations(text)
    letters = [c for c in body if c.isalpha()]
    if any(script_of(c) == "LATIN" for c in letters):
        return False
    return len(letters) < 12 or question_language(body)[0] == language


@pytest.mark.parametrize(("question", "language", "source", "fact"), CASES, ids=[c[1] for c in CASES])
async def test_a_question_in_its_language_is_answered_from_the_right_file_in_that_language(
    library_index, embedded_catalog, question, language, source, fact
) -> None:
    result = await answer(question, index=library_index, catalog=embedded_catalog, options=_options())
    assert result.error is None and result.answered_by_model, result.error
    assert result.hits[0].chunk.source == source
    assert cited_files(result) == {source}, (result.text, [h.chunk.source for h in result.prompt_sources])
    assert fact in result.text.replace(" ", "").replace(",", ""), result.text
    assert written_in(result.text, language), result.text
