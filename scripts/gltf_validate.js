// Validate a .glb/.gltf with the Khronos glTF validator and print its JSON report on stdout.
// Usage: NODE_PATH=.tools/gltf-validator/node_modules node scripts/gltf_validate.js FILE
// (scripts/install_gltf_validator.sh installs it). Exit 0 when the report has no errors, else 1.
"use strict";
const fs = require("fs");
const path = require("path");
const validator = require("gltf-validator");

const file = process.argv[2];
validator
  .validateBytes(new Uint8Array(fs.readFileSync(file)), {
    uri: path.basename(file),
    externalResourceFunction: (uri) =>
      Promise.resolve(new Uint8Array(fs.readFileSync(path.resolve(path.dirname(file), uri)))),
  })
  .then((report) => {
    process.stdout.write(JSON.stringify(report) + "\n");
    process.exit(report.issues.numErrors === 0 ? 0 : 1);
  })
  .catch((error) => {
    process.stderr.write(`gltf_validate: ${file}: ${error}\n`);
    process.exit(2);
  });
