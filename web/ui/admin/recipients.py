"""Administration: recipients (routes on web.ui.admin.bp, each guarded by `section("recipients")`)."""
