from newsflow.core.errors import InvalidArticle
from processors.stages.deadletter import dead_letter, dead_letter_id
from schemas import codec
from schemas.deadletter import DeadLetter


def test_non_utf8_bytes_survive_as_base64():
    raw = b"\xff\x00binary"
    letter = dead_letter(
        raw,
        None,
        InvalidArticle("not_utf8", "bad"),
        stage="decode",
        topic="t",
        partition=1,
        offset=7,
    )
    assert letter.value_encoding == "base64"
    again = codec.loads(DeadLetter, codec.dumps(letter))
    assert again.original_bytes() == raw
    assert dead_letter_id(again) == "t:1:7"


def test_text_is_kept_verbatim():
    letter = dead_letter(
        b'{"x": 1}',
        b"k",
        InvalidArticle("schema", "body: missing"),
        stage="decode",
        topic="t",
        partition=0,
        offset=0,
    )
    assert (letter.value, letter.value_encoding, letter.key) == ('{"x": 1}', "utf-8", "k")
    assert (letter.error, letter.reason) == ("schema", "body: missing")
