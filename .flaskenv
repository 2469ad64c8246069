# Read by the `flask` command in this checkout (python-dotenv), so `flask --app wsgi …`
# runs the development configuration. A variable already set wins: on a server export
# HANDOVER_ENV=production. gunicorn never reads this file.
HANDOVER_ENV=development
