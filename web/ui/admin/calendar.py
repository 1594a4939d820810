"""Administration: calendar (routes on web.ui.admin.bp, each guarded by `section("calendar")`)."""
