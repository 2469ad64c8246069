"""The baseline: a bare Flask app that says hello, served like Handover."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
