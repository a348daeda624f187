"""A one-model app whose database class comes from the environment."""
