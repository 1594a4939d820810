"""Administration: people (routes on web.ui.admin.bp, each guarded by `section("people")`)."""
