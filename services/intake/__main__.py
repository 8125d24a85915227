from services.intake.main import INTAKE

INTAKE.run()
