/**
 * The XML namespaces and schema locations of the RSpecs we read and write.
 *
 * GENI v3 is the only RSpec version we emit. Its core schemas refuse unknown elements and
 * unprefixed attributes in the core namespace, so everything a PlanetLab aggregate adds
 * (leases, granularity, node status, sliver attributes, port grants) lives in an extension
 * namespace: SFA's PlanetLab one where SFA tools already know the element, ours otherwise.
 */

/** GENI RSpec v3, the core namespace of ads, requests and manifests. */
export const RSPEC3_NS = 'http://www.geni.net/resources/rspec/3';
/** ProtoGENI RSpec v2: the same shape as GENI v3; omni and the acceptance tests still send it. */
export const PGV2_NS = 'http://www.protogeni.net/resources/rspec/2';

export const RSPEC3_AD_SCHEMA = 'http://www.geni.net/resources/rspec/3/ad.xsd';
export const RSPEC3_REQUEST_SCHEMA = 'http://www.geni.net/resources/rspec/3/request.xsd';
export const RSPEC3_MANIFEST_SCHEMA = 'http://www.geni.net/resources/rspec/3/manifest.xsd';

/**
 * SFA's PlanetLab extension (`planetlab:initscript`, `planetlab:attribute`), as SFA writes it.
 * The published planetlab.xsd declares {@link PLANETLAB_XSD_NS} instead; we keep SFA's URI on
 * the wire, because that is what sfi and MySlice look for, and map it only for validation.
 */
export const PLANETLAB_NS = 'http://www.planet-lab.org/resources/sfa/ext/planetlab/1';
export const PLANETLAB_SCHEMA =
  'http://www.planet-lab.org/resources/sfa/ext/planetlab/1/planetlab.xsd';
/** The namespace the published planetlab.xsd declares; accepted on input as a synonym. */
export const PLANETLAB_XSD_NS = 'http://www.planet-lab.org/resources/ext/planetlab/1';

/** GENI operational-state extension: the state machine an ad offers (AM API v3). */
export const OPSTATE_NS = 'http://www.geni.net/resources/rspec/ext/opstate/1';
export const OPSTATE_SCHEMA = 'http://www.geni.net/resources/rspec/ext/opstate/1/ad.xsd';

/** GENI login-user extension: `<ssh-user:services_user>` in a manifest's `<services>`. */
export const SSH_USER_NS = 'http://www.geni.net/resources/rspec/ext/user/1';
export const SSH_USER_SCHEMA = 'http://www.geni.net/resources/rspec/ext/user/1/manifest.xsd';

/** Our extension: leases, granularity, node status, sliver attributes, ports, SM status. */
export const SFATS_NS = 'http://sfa-ts.org/resources/rspec/ext/sfa-ts/1';
export const SFATS_SCHEMA = 'http://sfa-ts.org/resources/rspec/ext/sfa-ts/1/sfa-ts.xsd';

export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
