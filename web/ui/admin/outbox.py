"""Administration: outbox (routes on web.ui.admin.bp, each guarded by `section("outbox")`)."""
