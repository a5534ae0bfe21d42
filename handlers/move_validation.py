"""`POST /api/moves/validate`: can this workspace move to that resource group? One report (DESIGN §6)."""

import azure.functions as func

from handlers.http import api, json_body, json_response
from shared.azure.clients import get_clients
from shared.moves import check_allowed, parse_move_request, validate_move
from shared.settings import get_settings

bp = func.Blueprint()


@bp.function_name("moves_validate")
@bp.route(route="moves/validate", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@api
def moves_validate(req: func.HttpRequest) -> func.HttpResponse:
    request = parse_move_request(json_body(req))
    settings = get_settings()
    check_allowed(request, settings)  # 403 before any ARM call
    return json_response(validate_move(get_clients(), settings, request).to_json())
