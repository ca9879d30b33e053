// Types for uPlot's ES module, which the listener serves beside our compiled modules at
// /js/vendor/uPlot.esm.js (from node_modules/uplot/dist): the browser loads it from there, tsc
// takes the types from the npm package.
import uPlot from 'uplot/dist/uPlot.js';
export default uPlot;
