from webapp import create_app, logs

app = create_app()
logs.configure(app)  # production: JSON lines on stdout; elsewhere nothing changes
