const ms = require("ms");
const ts = require("typescript");
console.log("npm ok", ms(60000), ts.version);
