"""Small Proper apps the library's own tests drive."""
