// Every page: GOV.UK Frontend and MOJ Frontend components, progressively enhanced.
import { initAll } from "govuk-frontend";
import { initAll as initMoj } from "@ministryofjustice/frontend";

initAll();
initMoj();
