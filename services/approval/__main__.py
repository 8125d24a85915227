from services.approval.main import APPROVAL

APPROVAL.run()
