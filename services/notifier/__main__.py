from services.notifier.main import NOTIFIER

NOTIFIER.run()
