from services.fieldwork.main import FIELDWORK

FIELDWORK.run()
