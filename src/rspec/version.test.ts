/**
 * GetVersion's RSpec version lists and the geni_rspec_version matcher, with what sfi, omni and
 * jFed actually send.
 */
import { describe, expect, it } from 'vitest';
import { BadArgs, BadVersion } from '../faults.js';
import { matchRspecVersion, rspecVersions } from './version.js';

describe('rspecVersions', () => {
  it('advertises GENI 3 for requests and ads, with our extensions', () => {
    const v = rspecVersions();
    expect(v.geni_request_rspec_versions).toEqual([
      {
        type: 'GENI',
        version: '3',
        schema: 'http://www.geni.net/resources/rspec/3/request.xsd',
        namespace: 'http://www.geni.net/resources/rspec/3',
        extensions: [
          'http://www.planet-lab.org/resources/sfa/ext/planetlab/1',
          'http://sfa-ts.org/resources/rspec/ext/sfa-ts/1',
        ],
      },
    ]);
    expect(v.geni_ad_rspec_versions).toHaveLength(1);
    expect(v.geni_ad_rspec_versions[0]).toMatchObject({
      type: 'GENI',
      version: '3',
      schema: 'http://www.geni.net/resources/rspec/3/ad.xsd',
    });
    expect(v.geni_ad_rspec_versions[0]!.extensions).toContain(
      'http://www.geni.net/resources/rspec/ext/opstate/1',
    );
  });

  it('gives fresh objects each time', () => {
    rspecVersions().geni_ad_rspec_versions[0]!.extensions.push('x');
    expect(rspecVersions().geni_ad_rspec_versions[0]!.extensions).not.toContain('x');
  });
});

describe('matchRspecVersion', () => {
  it.each([
    ['omni', { type: 'GENI', version: '3' }],
    ['jFed', { type: 'geni', version: '3' }],
    [
      'sfi (manifest schema even for ListResources)',
      {
        type: 'GENI',
        version: '3',
        schema: 'http://www.geni.net/resources/rspec/3/manifest.xsd',
        namespace: 'http://www.geni.net/resources/rspec/3',
        extensions: ['http://www.planet-lab.org/resources/sfa/ext/planetlab/1'],
      },
    ],
    ['an integer version', { type: 'GENI', version: 3 }],
    ['a float-looking version', { type: 'GENI', version: '3.0' }],
    ['a string', 'GENI 3'],
    ['a lower-case string', 'geni 3'],
    ['a string with a content type', 'GENI 3 ad'],
  ])('accepts %s', (_, option) => {
    expect(matchRspecVersion(option)).toBe('GENI 3');
  });

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['an empty string', ''],
    ['an empty struct', {}],
  ])('reports %s as missing (BadArgs)', (_, option) => {
    expect(() => matchRspecVersion(option)).toThrow(BadArgs);
    expect(() => matchRspecVersion(option)).toThrow(
      /^geni_rspec_version is required: supported: GENI 3/,
    );
  });

  it.each([
    ['a number', 3, /must be a struct with type and version, not 3/],
    ['an array', ['GENI', '3'], /must be a struct/],
    ['a struct without type', { version: '3' }, /has no type/],
    ['a struct without version', { type: 'GENI' }, /has no version/],
    ['a bare type', 'GENI', /has no version/],
  ])('refuses %s with BadArgs', (_, option, message) => {
    let caught: unknown;
    try {
      matchRspecVersion(option);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BadArgs);
    expect(caught).not.toBeInstanceOf(BadVersion);
    expect((caught as BadArgs).message).toMatch(message);
  });

  it.each([
    ['ProtoGENI 2', { type: 'ProtoGENI', version: '2' }],
    ['SFA 1', 'SFA 1'],
    ['GENI 4', { type: 'GENI', version: '4' }],
    ['GENI 3.5', { type: 'GENI', version: '3.5' }],
  ])('refuses %s with BadVersion (code 4) naming what is supported', (_, option) => {
    let caught: unknown;
    try {
      matchRspecVersion(option);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BadVersion);
    expect((caught as BadVersion).geniCode).toBe(4);
    expect((caught as BadVersion).message).toMatch(/is not supported; supported: GENI 3/);
  });
});
