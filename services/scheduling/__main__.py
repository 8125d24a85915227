from services.scheduling.main import SCHEDULING

SCHEDULING.run()
