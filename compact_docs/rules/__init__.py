"""The Compact's rules as code over profile data: profiles, notice dates, checks and dispute stages."""
