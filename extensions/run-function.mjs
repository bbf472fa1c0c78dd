#!/usr/bin/env node
/**
 * Run one of Kanta's Shopify Functions on a Function input read from stdin, and print its output.
 *
 *   node extensions/run-function.mjs payment  < input.json
 *   node extensions/run-function.mjs delivery < input.json
 *
 * The input is the JSON Shopify would pass the Function for its input query
 * (src/cart_*_transform_run.graphql). The demo store uses this to run the real Function code on its
 * own payment and delivery option lists, as Javy would inside Shopify, without a Wasm toolchain.
 * Exit status: 0 with the output JSON on stdout; 2 for a wrong argument; 1 for input that is not
 * JSON (message on stderr).
 */
import { cartDeliveryOptionsTransformRun } from "./preferred-delivery/src/index.js";
import { cartPaymentMethodsTransformRun } from "./preferred-payment/src/index.js";

const FUNCTIONS = {
  payment: cartPaymentMethodsTransformRun,
  delivery: cartDeliveryOptionsTransformRun,
};

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(argv) {
  const run = Object.hasOwn(FUNCTIONS, argv[0] ?? "") ? FUNCTIONS[argv[0]] : undefined;
  if (argv.length !== 1 || run === undefined) {
    process.stderr.write("usage: node run-function.mjs <payment|delivery> < input.json\n");
    return 2;
  }
  let input;
  try {
    input = JSON.parse(await readStdin());
  } catch (error) {
    process.stderr.write(`input is not JSON: ${error.message}\n`);
    return 1;
  }
  process.stdout.write(`${JSON.stringify(run(input))}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
