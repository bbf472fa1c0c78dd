export * from "./cart_delivery_options_transform_run.js";
