"""Quality on real news labelled by others (``../shared/data``; see its README for licences)."""
