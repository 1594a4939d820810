"""Administration: agencies (routes on web.ui.admin.bp, each guarded by `section("agencies")`)."""
