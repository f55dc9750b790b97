import { SCENARIOS } from '../chaos/scenarios';
import { SIZES } from '../chaos/sizes';
import { defineChaosSuite } from '../chaos/suite';

// The chaos suite at its bounded CI size (npm test). `npm run test:chaos` runs it at full size.
defineChaosSuite(SIZES.small, SCENARIOS);
