from pathlib import Path

from producers.feedstate import SeenStore, Validators, default_state_path


def test_the_default_path_is_per_namespace(tmp_path: Path):
    assert default_state_path(tmp_path, "news") == tmp_path / "feeds" / "news.sqlite3"


def test_validators_become_conditional_headers():
    assert Validators().request_headers() == {}
    headers = Validators('"v1"', "Tue, 03 Nov 2026 09:30:00 GMT").request_headers()
    assert headers == {
        "If-None-Match": '"v1"',
        "If-Modified-Since": "Tue, 03 Nov 2026 09:30:00 GMT",
    }


def test_published_ids_and_validators_survive_a_restart(tmp_path: Path):
    path = tmp_path / "state" / "seen.sqlite3"
    store = SeenStore(path)
    assert store.unseen(["a", "b"]) == {"a", "b"}
    assert store.validators("http://x/feed") == Validators()
    store.record_poll("http://x/feed", ["a"], ["a", "b"], Validators('"e"', None), now=100.0)
    store.close()

    again = SeenStore(path)
    assert again.unseen(["a", "b", "c"]) == {"b", "c"}
    assert again.validators("http://x/feed") == Validators('"e"', None)
    assert again.count() == 1
    again.close()


def test_many_ids_are_looked_up_in_chunks(tmp_path: Path):
    store = SeenStore(tmp_path / "s.sqlite3")
    ids = [f"id-{n}" for n in range(5000)]
    store.record_poll("http://x/feed", ids[::2], ids, Validators(), now=1.0)
    assert store.unseen(ids) == set(ids[1::2])
    store.close()


def test_prune_forgets_ids_no_feed_has_listed_lately(tmp_path: Path):
    store = SeenStore(tmp_path / "s.sqlite3")
    store.record_poll("http://x/feed", ["old", "kept"], [], Validators(), now=100.0)
    # "kept" is still in the feed at the next poll: its last sighting moves on.
    store.record_poll("http://x/feed", [], ["kept"], Validators(), now=500.0)
    assert store.prune(older_than=300.0) == 1
    assert store.unseen(["old", "kept"]) == {"old"}
    store.close()
