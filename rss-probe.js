const before = process.memoryUsage().rss;
const mods = process.argv[2] ? process.argv[2].split(',') : [];
for (const m of mods) require(m);
global.gc && gc();
setTimeout(() => { global.gc && gc(); console.log(mods.join(',') || 'none', ((process.memoryUsage().rss - before)/1e6).toFixed(1), 'MB'); }, 200);
