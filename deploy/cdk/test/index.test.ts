// One process for every test file: the app is synthesised once per context (fixture.ts).
import './network.test';
import './security-groups.test';
import './data.test';
import './edge.test';
import './compute.test';
import './secrets.test';
import './observability.test';
