"""Django project of the benchmark: jwtauth and djangorestframework-simplejwt side by side."""
