"""Stage ``stories``: join each article to the best open story or start one, in one ordered
stream (one partition), with :func:`processors.stages.stories.assign_story` over the table;
the touched stories' summaries go to ``<ns>-stories``."""

from __future__ import annotations

import time

from processors.stages import stories
from processors.worker.adapter import Batch, Every, Out, Step
from processors.worker.runtime import Runtime
from schemas.article import Article


def build(runtime: Runtime) -> Step:
    """The step of stage ``stories``."""
    config = stories.StoryConfig()
    expiry = Every()  # the table expires its old keys once a minute

    async def assign(batch: Batch[Article]) -> Out:
        assert batch.state is not None
        # A restart may hand us a backlog before warm_up has opened the stories sink.
        await runtime.start()
        out, touched, now = Out(), set[str](), time.time()
        # One changelog record per key per batch; nothing reaches the table if this fails.
        state = stories.BatchState(batch.state)
        async for _, item in batch.paced():
            assignment = stories.assign_story(stories.article_features(item), state, config)
            touched.add(assignment.story_id)
            article = item.model_copy(update={"story_id": assignment.story_id})
            out.emit("enriched_topic", article.id, article)
        # Summaries before expiry: a story closed by this very expiry still gets its document.
        summaries = [
            (sid, stories.story_summary(sid, state))
            for sid in sorted(touched)
            if f"s:{sid}" in state
        ]
        if expiry.due(now):
            stories.expire(state, now, config)
        state.flush()
        await runtime.sinks[runtime.names.stories_index].write(summaries)
        return out

    return assign
