import "@shopify/ui-extensions/preact";
import { render } from "preact";

import { LoyaltyProfile } from "./components.jsx";
import { useLoyalty } from "./useLoyalty.js";

export default async () => {
  render(<Extension />, document.body);
};

function Extension() {
  return <LoyaltyProfile state={useLoyalty("profile")} />;
}
