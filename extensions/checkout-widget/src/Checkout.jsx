import "@shopify/ui-extensions/preact";
import { render } from "preact";

import { LoyaltyWidget } from "./components.jsx";
import { useLoyalty } from "./useLoyalty.js";

export default async () => {
  render(<Extension />, document.body);
};

function Extension() {
  return <LoyaltyWidget state={useLoyalty("checkout")} />;
}
