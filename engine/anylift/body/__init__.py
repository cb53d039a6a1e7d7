"""The SMPL body: the bundled proxy model (:mod:`.proxy`) and the torch body model (:mod:`.model`)."""

from anylift.body.model import YUP_TO_ZUP, BodyModel, BodyOutput, load_body_model
from anylift.body.proxy import proxy_model_path

__all__ = ["YUP_TO_ZUP", "BodyModel", "BodyOutput", "load_body_model", "proxy_model_path"]
